fn main(){ let _ = wgpu::Instance::default(); }
